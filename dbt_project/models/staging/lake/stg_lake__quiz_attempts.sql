select
    event_id,
    user_id,
    course_id,
    quiz_id,
    quiz_kind,
    lesson_id,
    cast(score as double precision) as score,
    cast(mastery_score as double precision) as mastery_score,
    passed,
    {{ lake_timestamp('occurred_at') }} as occurred_at,
    event_date
from {{ source('silver', 'quiz_attempts') }}
