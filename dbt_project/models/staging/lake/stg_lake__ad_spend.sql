select
    spend_date,
    channel,
    campaign,
    currency,
    amount,
    amount_usd
from {{ source('silver', 'ad_spend') }}
