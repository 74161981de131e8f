select
    id as lesson_id,
    course_id,
    title as lesson_title,
    "position" as lesson_position,
    duration_seconds,
    is_required
from {{ source('silver', 'lessons') }}
