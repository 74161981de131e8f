with

enrollments as (select * from {{ ref('int_enrollments_completed') }})

select
    cast(enrollment_id as varchar) as enrollment_id,
    cast(user_id as varchar) as user_id,
    cast(course_id as varchar) as course_id,
    cast(enrolled_at as timestamp) as enrolled_at,
    cast(cohort_month as date) as cohort_month,
    cast(completion_rule as varchar) as completion_rule,
    cast(required_lessons as bigint) as required_lessons,
    cast(required_lessons_completed as bigint) as required_lessons_completed,
    cast(all_required_completed_at as timestamp) as all_required_completed_at,
    cast(final_passed_at as timestamp) as final_passed_at,
    cast(completed_at as timestamp) as completed_at,
    cast(source_completed_at as timestamp) as source_completed_at,
    cast(is_completed as boolean) as is_completed,
    cast(days_to_complete as double precision) as days_to_complete,
    cast(is_open as boolean) as is_open,
    cast(completed_within_90_days as boolean) as completed_within_90_days,
    cast(engaged_seconds as bigint) as engaged_seconds,
    cast(as_of_date as date) as as_of_date
from enrollments
