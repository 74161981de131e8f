with

lessons as (select * from {{ ref('stg_lake__lessons') }}),
events as (select * from {{ ref('int_course_events_unioned') }}),

course_starters as (
    -- learners who started the course: any event on it (a lesson, a heartbeat or a quiz attempt)
    select course_id, count(distinct user_id) as learners_started
    from events
    group by course_id
),

lesson_reach as (
    -- the lesson's place in the course is the lessons table's, never what an event reported
    select
        lessons.course_id,
        lessons.lesson_position,
        lessons.lesson_id,
        lessons.is_required,
        count(distinct events.user_id) as learners_reached
    from lessons
    left join events
        on events.lesson_id = lessons.lesson_id
        and events.course_id = lessons.course_id
    group by lessons.course_id, lessons.lesson_position, lessons.lesson_id, lessons.is_required
),

ordered as (
    select
        lesson_reach.*,
        coalesce(course_starters.learners_started, 0) as learners_started,
        lead(lesson_reach.lesson_id) over (
            partition by lesson_reach.course_id order by lesson_reach.lesson_position, lesson_reach.lesson_id
        ) as next_lesson_id,
        lead(lesson_reach.learners_reached) over (
            partition by lesson_reach.course_id order by lesson_reach.lesson_position, lesson_reach.lesson_id
        ) as next_learners_reached
    from lesson_reach
    left join course_starters on lesson_reach.course_id = course_starters.course_id
)

select
    cast(course_id as varchar) as course_id,
    cast(lesson_position as bigint) as lesson_position,
    cast(lesson_id as varchar) as lesson_id,
    cast(is_required as boolean) as is_required,
    cast(learners_started as bigint) as learners_started,
    cast(learners_reached as bigint) as learners_reached,
    cast(1.0 * learners_reached / nullif(learners_started, 0) as double precision) as reach_rate,
    cast(next_lesson_id as varchar) as next_lesson_id,
    cast(next_learners_reached as bigint) as next_learners_reached,
    -- 1 − reach_{k+1} / reach_k; the course's starters cancel out, so it is taken from the counts
    cast(1.0 - 1.0 * next_learners_reached / nullif(learners_reached, 0) as double precision) as drop_rate
from ordered
