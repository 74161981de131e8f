select
    id as discount_id,
    subscription_id,
    user_id as customer_id,
    coupon_code,
    percent_off,
    amount_off,
    currency,
    duration,
    duration_in_months,
    {{ lake_timestamp('starts_at') }} as starts_at,
    {{ lake_timestamp('ends_at') }} as ends_at
from {{ source('silver', 'subscription_discounts') }}
