select
    id as enrollment_id,
    user_id,
    course_id,
    cast(enrolled_at as {{ dbt.type_timestamp() }}) as enrolled_at,
    status as enrollment_status,
    lessons_completed,
    final_passed,
    cast(completed_at as {{ dbt.type_timestamp() }}) as completed_at,
    cast(last_activity_at as {{ dbt.type_timestamp() }}) as last_activity_at,
    completion_rule
from {{ source('silver', 'enrollments') }}
