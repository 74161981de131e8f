select
    id as quiz_id,
    course_id,
    lesson_id,
    kind as quiz_kind,
    cast(mastery_score as double precision) as mastery_score,
    question_count
from {{ source('silver', 'quizzes') }}
