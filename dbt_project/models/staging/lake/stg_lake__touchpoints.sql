select
    touchpoint_id,
    anonymous_id,
    user_id,
    product,
    touched_at,
    touch_date,
    channel,
    campaign
from {{ source('silver', 'touchpoints') }}
