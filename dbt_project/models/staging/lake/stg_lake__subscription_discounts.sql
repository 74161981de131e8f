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
    starts_at,
    ends_at
from {{ source('silver', 'subscription_discounts') }}
