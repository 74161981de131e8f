{# Each enrollment's completion recomputed from the learning facts by its course's rule (METRICS.md,
   Learning: Completion): `completed` when every required lesson of the course (current lessons table)
   has been completed, at the first completion of the last of them; `passed` at the first passing
   attempt at the course's final assessment; `completed_and_passed` when both hold, at the later of the
   two. The 90-day flag follows the completion rate's fixed age: true when completed within 90 days of
   enrolling, false when not and the enrollment is at least 90 days old at the end of the data's last
   day, null while it is younger. #}
with

enrollments as (select * from {{ ref('stg_lake__enrollments') }}),
lessons as (select * from {{ ref('stg_lake__lessons') }}),
events as (select * from {{ ref('int_enrollment_events_assigned') }}),
days as (select * from {{ ref('int_days_spined') }}),

as_of as (
    select
        max(calendar_date) as as_of_date,
        -- the end of the data's last day: an enrollment's age is measured to this instant
        cast({{ dbt.dateadd('day', 1, 'max(calendar_date)') }} as {{ dbt.type_timestamp() }}) as as_of_at
    from days
),

required_lessons as (
    select course_id, count(*) as required_lessons
    from lessons
    where is_required
    group by course_id
),

required_lesson_completions as (
    select
        events.enrollment_id,
        events.lesson_id,
        min(events.occurred_at) as first_completed_at
    from events
    inner join lessons
        on events.lesson_id = lessons.lesson_id
        and events.course_id = lessons.course_id
        and lessons.is_required
    where events.event_kind = 'lesson_completed'
    group by events.enrollment_id, events.lesson_id
),

required_progress as (
    select
        enrollment_id,
        count(*) as required_lessons_completed,
        max(first_completed_at) as last_required_completed_at
    from required_lesson_completions
    group by enrollment_id
),

final_passes as (
    select enrollment_id, min(occurred_at) as final_passed_at
    from events
    where event_kind = 'quiz_attempted' and quiz_kind = 'final' and is_passed
    group by enrollment_id
),

watched_intervals as (
    select distinct enrollment_id, lesson_id, interval_index
    from events
    where event_kind = 'video_heartbeat' and interval_index is not null
),

engagement as (
    -- heartbeats come every 10 s of video: engaged seconds = 10 × distinct intervals watched
    select enrollment_id, 10 * count(*) as engaged_seconds
    from watched_intervals
    group by enrollment_id
),

progress as (
    select
        enrollments.enrollment_id,
        enrollments.user_id,
        enrollments.course_id,
        enrollments.completion_rule,
        enrollments.enrolled_at,
        enrollments.completed_at as source_completed_at,
        coalesce(required_lessons.required_lessons, 0) as required_lessons,
        coalesce(required_progress.required_lessons_completed, 0) as required_lessons_completed,
        case
            when required_lessons.required_lessons > 0
                and required_progress.required_lessons_completed = required_lessons.required_lessons
            then required_progress.last_required_completed_at
        end as all_required_completed_at,
        final_passes.final_passed_at,
        coalesce(engagement.engaged_seconds, 0) as engaged_seconds
    from enrollments
    left join required_lessons on enrollments.course_id = required_lessons.course_id
    left join required_progress on enrollments.enrollment_id = required_progress.enrollment_id
    left join final_passes on enrollments.enrollment_id = final_passes.enrollment_id
    left join engagement on enrollments.enrollment_id = engagement.enrollment_id
),

completion as (
    select
        progress.*,
        case progress.completion_rule
            when 'completed' then all_required_completed_at
            when 'passed' then final_passed_at
            when 'completed_and_passed' then
                case
                    when all_required_completed_at >= final_passed_at then all_required_completed_at
                    when final_passed_at > all_required_completed_at then final_passed_at
                end
        end as completed_at
    from progress
),

aged as (
    select
        completion.*,
        as_of.as_of_date,
        cast({{ dbt.date_trunc('month', 'completion.enrolled_at') }} as date) as cohort_month,
        cast({{ dbt.dateadd('day', 90, 'completion.enrolled_at') }} as {{ dbt.type_timestamp() }}) as day_90_at,
        as_of.as_of_at
    from completion
    cross join as_of
)

select
    enrollment_id,
    user_id,
    course_id,
    completion_rule,
    enrolled_at,
    cohort_month,
    required_lessons,
    required_lessons_completed,
    all_required_completed_at,
    final_passed_at,
    completed_at,
    source_completed_at,
    completed_at is not null as is_completed,
    {{ dbt.datediff('enrolled_at', 'completed_at', 'millisecond') }} / 86400000.0 as days_to_complete,
    day_90_at > as_of_at as is_open,
    case
        when completed_at is not null then completed_at <= day_90_at
        when day_90_at <= as_of_at then false
    end as completed_within_90_days,
    engaged_seconds,
    as_of_date
from aged
