{# A rebuilt day is replaced whole (macros/incremental_window.sql). A day's WAU and MAU
   read the 27 days before it, so a change to one day's events changes the 27 days after it too:
   rebuild those days as well (the default lookback does, for events up to its length late). #}
{{ config(materialized='incremental', incremental_strategy='replace_window', unique_key='activity_date',
          on_schema_change='fail') }}

with

events as (
    select * from {{ ref('stg_lake__events') }}
    {% if is_incremental() %}where {{ incremental_window('event_date', 'activity_date', 27) }}{% endif %}
),
days as (
    select * from {{ ref('int_days_spined') }}
    {% if is_incremental() %}where {{ incremental_window('calendar_date', 'activity_date') }}{% endif %}
),

activity as (
    select distinct event_date as activity_date, product, user_id
    from events
    where is_active
),

activity_with_platform as (
    select activity_date, product, user_id from activity
    union all
    select distinct activity_date, 'all' as product, user_id from activity
),

products as (
    select 'courses' as product
    union all select 'marketing'
    union all select 'documents'
    union all select 'all'
),

grid as (
    select days.calendar_date, products.product
    from days
    cross join products
),

windows as (
    select
        grid.calendar_date,
        grid.product,
        count(distinct case when activity.activity_date = grid.calendar_date then activity.user_id end) as dau,
        count(distinct case
            when activity.activity_date > cast({{ dbt.dateadd('day', -7, 'grid.calendar_date') }} as date)
            then activity.user_id end) as wau,
        count(distinct activity.user_id) as mau
    from grid
    left join activity_with_platform as activity
        on activity.product = grid.product
        and activity.activity_date <= grid.calendar_date
        and activity.activity_date > cast({{ dbt.dateadd('day', -28, 'grid.calendar_date') }} as date)
    group by grid.calendar_date, grid.product
)

select
    cast(calendar_date as date) as activity_date,
    cast(product as varchar) as product,
    cast(dau as bigint) as dau,
    cast(wau as bigint) as wau,
    cast(mau as bigint) as mau,
    cast(case when mau > 0 then 1.0 * dau / mau end as double precision) as stickiness
from windows
