{# Every learner event on a course, one row per event: lessons started and completed, video heartbeats
   and quiz attempts. A lesson's course comes from the lessons table when the lesson is a current one
   (a lesson belongs to one course), else from the event. Positions are not carried: the marts take
   them from the lessons table. #}
with

lesson_progress as (select * from {{ ref('stg_lake__lesson_progress') }}),
video_heartbeats as (select * from {{ ref('stg_lake__video_heartbeats') }}),
quiz_attempts as (select * from {{ ref('stg_lake__quiz_attempts') }}),
lessons as (select * from {{ ref('stg_lake__lessons') }}),

lesson_steps as (
    select
        event_id,
        user_id,
        course_id,
        lesson_id,
        case lesson_action
            when 'started' then 'lesson_started'
            when 'completed' then 'lesson_completed'
        end as event_kind,
        cast(null as {{ dbt.type_string() }}) as quiz_id,
        cast(null as {{ dbt.type_string() }}) as quiz_kind,
        cast(null as boolean) as is_passed,
        cast(null as {{ dbt.type_bigint() }}) as interval_index,
        occurred_at
    from lesson_progress
),

heartbeats as (
    select
        video_heartbeats.event_id,
        video_heartbeats.user_id,
        coalesce(lessons.course_id, video_heartbeats.course_id) as course_id,
        video_heartbeats.lesson_id,
        'video_heartbeat' as event_kind,
        cast(null as {{ dbt.type_string() }}) as quiz_id,
        cast(null as {{ dbt.type_string() }}) as quiz_kind,
        cast(null as boolean) as is_passed,
        cast(video_heartbeats.interval_index as {{ dbt.type_bigint() }}) as interval_index,
        video_heartbeats.occurred_at
    from video_heartbeats
    left join lessons on video_heartbeats.lesson_id = lessons.lesson_id
),

attempts as (
    select
        event_id,
        user_id,
        course_id,
        -- a lesson quiz is an event on its lesson; a final belongs to no lesson
        lesson_id,
        'quiz_attempted' as event_kind,
        quiz_id,
        quiz_kind,
        passed as is_passed,
        cast(null as {{ dbt.type_bigint() }}) as interval_index,
        occurred_at
    from quiz_attempts
),

unioned as (
    select * from lesson_steps
    union all
    select * from heartbeats
    union all
    select * from attempts
)

select *
from unioned
where user_id is not null
