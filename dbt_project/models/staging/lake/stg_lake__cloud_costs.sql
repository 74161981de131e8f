select
    cost_date,
    provider,
    service,
    product,
    currency,
    amount,
    fx_rate,
    fx_rate_date,
    amount_usd
from {{ source('silver', 'cloud_costs') }}
