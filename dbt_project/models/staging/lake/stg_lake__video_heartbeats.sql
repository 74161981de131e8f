select
    event_id,
    user_id,
    course_id,
    lesson_id,
    seconds as video_seconds,
    interval_index,
    {{ lake_timestamp('occurred_at') }} as occurred_at,
    event_date
from {{ source('silver', 'video_heartbeats') }}
