with

attempts as (select * from {{ ref('stg_lake__quiz_attempts') }}),
quizzes as (select * from {{ ref('stg_lake__quizzes') }}),

judged as (
    select
        coalesce(attempts.quiz_id, 'unknown') as quiz_id,
        attempts.event_date as attempt_date,
        coalesce(quizzes.course_id, attempts.course_id) as course_id,
        quizzes.quiz_kind,
        -- the pass mark is the quiz's mastery score as the quizzes table has it now, else the default
        coalesce(quizzes.mastery_score, {{ var('default_mastery_score', 0.8) }}) as mastery_score,
        attempts.user_id,
        attempts.score
    from attempts
    left join quizzes on attempts.quiz_id = quizzes.quiz_id
),

per_quiz_day as (
    select
        quiz_id,
        attempt_date,
        max(course_id) as course_id,
        max(quiz_kind) as quiz_kind,
        max(mastery_score) as mastery_score,
        count(*) as attempts,
        -- an attempt passes when its scaled score is at least the mastery score
        sum(case when score >= mastery_score then 1 else 0 end) as passed_attempts,
        count(distinct user_id) as learners,
        avg(score) as average_score
    from judged
    group by quiz_id, attempt_date
)

select
    cast(quiz_id as varchar) as quiz_id,
    cast(attempt_date as date) as attempt_date,
    cast(course_id as varchar) as course_id,
    cast(quiz_kind as varchar) as quiz_kind,
    cast(mastery_score as double precision) as mastery_score,
    cast(attempts as bigint) as attempts,
    cast(passed_attempts as bigint) as passed_attempts,
    cast(1.0 * passed_attempts / nullif(attempts, 0) as double precision) as pass_rate,
    cast(learners as bigint) as learners,
    cast(average_score as double precision) as average_score
from per_quiz_day
