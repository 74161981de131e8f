with

enrollments as (select * from {{ ref('int_enrollments_completed') }}),
days as (select * from {{ ref('int_days_spined') }}),

as_of as (
    select cast({{ dbt.dateadd('day', 1, 'max(calendar_date)') }} as {{ dbt.type_timestamp() }}) as as_of_at
    from days
),

per_course as (
    select
        cohort_month,
        course_id,
        max(completion_rule) as completion_rule,
        count(*) as enrollments,
        sum(case when is_completed then 1 else 0 end) as completed,
        sum(case when completed_within_90_days then 1 else 0 end) as completed_within_90_days,
        percentile_cont(0.5) within group (order by days_to_complete) as median_days_to_complete,
        percentile_cont(0.75) within group (order by days_to_complete) as p75_days_to_complete
    from enrollments
    group by cohort_month, course_id
),

all_courses as (
    select
        cohort_month,
        'all' as course_id,
        cast(null as {{ dbt.type_string() }}) as completion_rule,
        count(*) as enrollments,
        sum(case when is_completed then 1 else 0 end) as completed,
        sum(case when completed_within_90_days then 1 else 0 end) as completed_within_90_days,
        percentile_cont(0.5) within group (order by days_to_complete) as median_days_to_complete,
        percentile_cont(0.75) within group (order by days_to_complete) as p75_days_to_complete
    from enrollments
    group by cohort_month
),

cohorts as (
    select * from per_course
    union all
    select * from all_courses
),

flagged as (
    select
        cohorts.*,
        -- the cohort's last enrollments reach 90 days of age 90 days after its month ends
        cast({{ dbt.dateadd('day', 90, dbt.dateadd('month', 1, 'cohorts.cohort_month')) }} as {{ dbt.type_timestamp() }})
            > as_of.as_of_at as is_open
    from cohorts
    cross join as_of
)

select
    cast(cohort_month as date) as cohort_month,
    cast(course_id as varchar) as course_id,
    cast(completion_rule as varchar) as completion_rule,
    cast(enrollments as bigint) as enrollments,
    cast(completed as bigint) as completed,
    cast(completed_within_90_days as bigint) as completed_within_90_days,
    cast(1.0 * completed_within_90_days / nullif(enrollments, 0) as double precision) as completion_rate_90d,
    cast(is_open as boolean) as is_open,
    cast(median_days_to_complete as double precision) as median_days_to_complete,
    cast(p75_days_to_complete as double precision) as p75_days_to_complete
from flagged
