select
    touchpoint_id,
    anonymous_id,
    user_id,
    product,
    {{ lake_timestamp('touched_at') }} as touched_at,
    touch_date,
    channel,
    campaign
from {{ source('silver', 'touchpoints') }}
