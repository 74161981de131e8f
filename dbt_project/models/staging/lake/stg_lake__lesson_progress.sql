select
    event_id,
    user_id,
    course_id,
    lesson_id,
    action as lesson_action,
    {{ lake_timestamp('occurred_at') }} as occurred_at,
    event_date
from {{ source('silver', 'lesson_progress') }}
