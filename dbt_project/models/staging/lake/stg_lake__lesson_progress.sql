select
    event_id,
    user_id,
    course_id,
    lesson_id,
    action as lesson_action,
    cast(occurred_at as {{ dbt.type_timestamp() }}) as occurred_at,
    event_date
from {{ source('silver', 'lesson_progress') }}
