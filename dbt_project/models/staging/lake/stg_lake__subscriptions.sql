select
    id as subscription_id,
    user_id as customer_id,
    plan_id,
    quantity,
    status,
    trial_end,
    started_at,
    ended_at
from {{ source('silver', 'subscriptions') }}
