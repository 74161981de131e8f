{# A rebuilt day is replaced whole (macros/incremental_window.sql). #}
{{ config(materialized='incremental', incremental_strategy='replace_window', unique_key='activity_date',
          on_schema_change='fail') }}

with

touchpoints as (
    select * from {{ ref('stg_lake__touchpoints') }}
    {% if is_incremental() %}where {{ incremental_window('touch_date', 'activity_date') }}{% endif %}
),
spend as (
    select * from {{ ref('stg_lake__ad_spend') }}
    {% if is_incremental() %}where {{ incremental_window('spend_date', 'activity_date') }}{% endif %}
),
days as (
    select * from {{ ref('int_days_spined') }}
    {% if is_incremental() %}where {{ incremental_window('calendar_date', 'activity_date') }}{% endif %}
),
channels as (select * from {{ ref('channels') }}),

touches_per_day as (
    select touch_date, channel, count(*) as touchpoints
    from touchpoints
    group by touch_date, channel
),

spend_per_day as (
    select spend_date, channel, sum(amount_usd) as spend_usd
    from spend
    group by spend_date, channel
)

select
    cast(days.calendar_date as date) as activity_date,
    cast(channels.channel as varchar) as channel,
    cast(coalesce(touches_per_day.touchpoints, 0) as bigint) as touchpoints,
    cast(coalesce(spend_per_day.spend_usd, 0) as double precision) as spend_usd
from days
cross join channels
left join touches_per_day
    on touches_per_day.touch_date = days.calendar_date
    and touches_per_day.channel = channels.channel
left join spend_per_day
    on spend_per_day.spend_date = days.calendar_date
    and spend_per_day.channel = channels.channel
