{# Each learner event on a course assigned to the enrollment it belongs to. Events name a user and a
   course, not an enrollment: a learner who enrolls in the same course again (after completing it) has
   one window per enrollment, from its enrolled_at to the next enrollment's. The first window is open
   backwards, so an event from a device whose clock runs early still reaches its enrollment. Events of
   a user and course without an enrollment are left out here (they still count for lesson drop-off). #}
with

enrollments as (select * from {{ ref('stg_lake__enrollments') }}),
events as (select * from {{ ref('int_course_events_unioned') }}),

windows as (
    select
        enrollment_id,
        user_id,
        course_id,
        enrolled_at,
        lag(enrolled_at) over (
            partition by user_id, course_id order by enrolled_at, enrollment_id
        ) as previous_enrolled_at,
        lead(enrolled_at) over (
            partition by user_id, course_id order by enrolled_at, enrollment_id
        ) as next_enrolled_at
    from enrollments
)

select
    windows.enrollment_id,
    events.event_id,
    events.user_id,
    events.course_id,
    events.lesson_id,
    events.event_kind,
    events.quiz_id,
    events.quiz_kind,
    events.is_passed,
    events.interval_index,
    events.occurred_at
from events
inner join windows
    on events.user_id = windows.user_id
    and events.course_id = windows.course_id
    and (windows.previous_enrolled_at is null or events.occurred_at >= windows.enrolled_at)
    and (windows.next_enrolled_at is null or events.occurred_at < windows.next_enrolled_at)
