with

touches as (select * from {{ ref('int_attribution_touches_windowed') }}),
conversions as (select * from {{ ref('int_conversions_valued') }}),
models as (select * from {{ ref('attribution_models') }}),

-- n counts the rows of the conversion: its touches, or the one `direct` row of a conversion without.
-- The `direct` row is 0 ms before the conversion, so every model gives it weight 1. The decay factors
-- are summed in touch order so that a rebuild gives the same weights to the last bit.
decayed as (
    select
        touches.*,
        count(*) over (partition by touches.conversion_id) as n,
        power(
            cast(2 as double precision),
            -cast(coalesce(touches.ms_before_conversion, 0) as double precision)
                / cast(7 * 24 * 60 * 60 * 1000 as double precision)
        ) as decay_factor
    from touches
),

normalised as (
    select
        decayed.*,
        decay_factor / sum(decay_factor) over (
            partition by conversion_id
            order by touch_number
            rows between unbounded preceding and unbounded following
        ) as time_decay_weight
    from decayed
),

weighted as (
    select
        normalised.*,
        models.attribution_model,
        case models.attribution_model
            when 'first_touch' then case when touch_number = 1 then 1 else 0 end
            when 'last_touch' then case when touch_number = n then 1 else 0 end
            when 'linear' then cast(1 as double precision) / n
            when 'position_based' then
                case
                    when n = 1 then 1
                    when n = 2 then cast(0.5 as double precision)
                    when touch_number = 1 or touch_number = n then cast(0.4 as double precision)
                    else cast(0.2 as double precision) / (n - 2)
                end
            when 'time_decay' then time_decay_weight
        end as weight
    from normalised
    cross join models
)

select
    cast(weighted.conversion_id as {{ dbt.type_string() }}) as conversion_id,
    cast(weighted.attribution_model as {{ dbt.type_string() }}) as attribution_model,
    cast(weighted.touch_number as {{ dbt.type_bigint() }}) as touch_number,
    cast(conversions.conversion_type as {{ dbt.type_string() }}) as conversion_type,
    cast(conversions.user_id as {{ dbt.type_string() }}) as user_id,
    cast(conversions.converted_at as {{ dbt.type_timestamp() }}) as converted_at,
    cast(conversions.conversion_date as date) as conversion_date,
    cast(weighted.touches as {{ dbt.type_bigint() }}) as touches,
    cast(weighted.touchpoint_id as {{ dbt.type_string() }}) as touchpoint_id,
    cast(weighted.touched_at as {{ dbt.type_timestamp() }}) as touched_at,
    cast(weighted.channel as {{ dbt.type_string() }}) as channel,
    cast(weighted.campaign as {{ dbt.type_string() }}) as campaign,
    cast(weighted.weight as double precision) as weight,
    cast(conversions.value_usd as double precision) as conversion_value_usd,
    cast(weighted.weight * conversions.value_usd as double precision) as attributed_value_usd,
    cast(conversions.is_new_customer as {{ dbt.type_boolean() }}) as is_new_customer,
    cast(conversions.is_window_open as {{ dbt.type_boolean() }}) as is_window_open
from weighted
inner join conversions on weighted.conversion_id = conversions.conversion_id
