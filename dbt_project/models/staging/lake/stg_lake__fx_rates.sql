select
    rate_date,
    currency,
    rate_to_usd
from {{ source('silver', 'fx_rates') }}
