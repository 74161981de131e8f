with

users as (select * from {{ ref('stg_lake__users') }}),
events as (select * from {{ ref('stg_lake__events') }}),
days as (select * from {{ ref('int_days_spined') }}),

bounds as (
    select min(calendar_date) as first_data_date, max(calendar_date) as as_of_date
    from days
),

data_weeks as (
    -- the weeks that hold days of event data (weeks before the first one have no activity to count)
    select distinct cast({{ dbt.date_trunc('week', 'calendar_date') }} as date) as week_start
    from days
),

cohorts as (
    select
        user_id,
        cast({{ dbt.date_trunc('week', 'signed_up_at') }} as date) as cohort_week
    from users
    where signed_up_at is not null
),

cohort_sizes as (
    select cohort_week, count(*) as cohort_size
    from cohorts
    group by cohort_week
),

activity as (
    select distinct
        user_id,
        cast({{ dbt.date_trunc('week', 'event_date') }} as date) as activity_week
    from events
    where is_active
),

active_per_week as (
    select cohorts.cohort_week, activity.activity_week, count(*) as active_users
    from cohorts
    inner join activity
        on cohorts.user_id = activity.user_id
        and activity.activity_week >= cohorts.cohort_week
    group by cohorts.cohort_week, activity.activity_week
),

grid as (
    select
        cohort_sizes.cohort_week,
        data_weeks.week_start,
        cohort_sizes.cohort_size,
        coalesce(active_per_week.active_users, 0) as active_users,
        data_weeks.week_start >= bounds.first_data_date
            and cast({{ dbt.dateadd('day', 6, 'data_weeks.week_start') }} as date) <= bounds.as_of_date
            as is_complete_week
    from cohort_sizes
    inner join data_weeks on data_weeks.week_start >= cohort_sizes.cohort_week
    cross join bounds
    left join active_per_week
        on cohort_sizes.cohort_week = active_per_week.cohort_week
        and data_weeks.week_start = active_per_week.activity_week
)

select
    cast(cohort_week as date) as cohort_week,
    cast({{ dbt.datediff('cohort_week', 'week_start', 'day') }} / 7 as bigint) as week_number,
    cast(week_start as date) as week_start,
    cast(cohort_size as bigint) as cohort_size,
    cast(active_users as bigint) as active_users,
    cast(1.0 * active_users / nullif(cohort_size, 0) as double precision) as retention,
    cast(is_complete_week as boolean) as is_complete_week
from grid
