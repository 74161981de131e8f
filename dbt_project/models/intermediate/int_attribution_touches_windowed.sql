{# The touches each conversion is attributed to (METRICS.md, Marketing: Attribution): the converting
   person's touchpoints (silver stitches anonymous visits to the user who signed up from them) in the
   30 days before the conversion, [converted_at - 30 days, converted_at], numbered in time order.
   A conversion without such touches gets one row for channel `direct`, without touchpoint. #}
with

conversions as (select * from {{ ref('int_conversions_identified') }}),
touchpoints as (select * from {{ ref('stg_lake__touchpoints') }}),

user_touches as (
    select
        touchpoint_id,
        user_id,
        cast(touched_at as {{ dbt.type_timestamp() }}) as touched_at,
        channel,
        campaign
    from touchpoints
    where user_id is not null
),

touches_in_window as (
    select
        conversions.conversion_id,
        user_touches.touchpoint_id,
        user_touches.touched_at,
        user_touches.channel,
        user_touches.campaign,
        {{ dbt.datediff('user_touches.touched_at', 'conversions.converted_at', 'millisecond') }}
            as ms_before_conversion
    from conversions
    inner join user_touches
        on user_touches.user_id = conversions.user_id
        and user_touches.touched_at >= {{ dbt.dateadd('day', -30, 'conversions.converted_at') }}
        and user_touches.touched_at <= conversions.converted_at
),

numbered_touches as (
    select
        conversion_id,
        row_number() over (
            partition by conversion_id order by touched_at, touchpoint_id
        ) as touch_number,
        count(*) over (partition by conversion_id) as touches,
        touchpoint_id,
        touched_at,
        channel,
        campaign,
        ms_before_conversion
    from touches_in_window
),

conversions_without_touches as (
    select conversions.conversion_id
    from conversions
    left join touches_in_window on conversions.conversion_id = touches_in_window.conversion_id
    where touches_in_window.conversion_id is null
)

select
    conversion_id,
    touch_number,
    touches,
    touchpoint_id,
    touched_at,
    channel,
    campaign,
    ms_before_conversion
from numbered_touches

union all

select
    conversion_id,
    1 as touch_number,
    0 as touches,
    cast(null as {{ dbt.type_string() }}) as touchpoint_id,
    cast(null as {{ dbt.type_timestamp() }}) as touched_at,
    'direct' as channel,
    cast(null as {{ dbt.type_string() }}) as campaign,
    cast(null as {{ dbt.type_bigint() }}) as ms_before_conversion
from conversions_without_touches
