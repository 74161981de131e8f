select
    id as subscription_id,
    user_id as customer_id,
    plan_id,
    quantity,
    status,
    {{ lake_timestamp('trial_end') }} as trial_end,
    {{ lake_timestamp('started_at') }} as started_at,
    {{ lake_timestamp('ended_at') }} as ended_at
from {{ source('silver', 'subscriptions') }}
