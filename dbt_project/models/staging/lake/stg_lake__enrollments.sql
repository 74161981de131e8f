select
    id as enrollment_id,
    user_id,
    course_id,
    {{ lake_timestamp('enrolled_at') }} as enrolled_at,
    status as enrollment_status,
    lessons_completed,
    final_passed,
    {{ lake_timestamp('completed_at') }} as completed_at,
    {{ lake_timestamp('last_activity_at') }} as last_activity_at,
    completion_rule
from {{ source('silver', 'enrollments') }}
