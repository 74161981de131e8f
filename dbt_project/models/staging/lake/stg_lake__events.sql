select
    event_id,
    event_type,
    product,
    {{ lake_timestamp('occurred_at') }} as occurred_at,
    event_date,
    user_id,
    anonymous_id,
    is_active
from {{ source('silver', 'events') }}
