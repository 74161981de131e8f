with

conversions as (select * from {{ ref('int_conversions_valued') }}),
touches as (select * from {{ ref('int_attribution_touches_windowed') }}),

touch_counts as (
    select conversion_id, max(touches) as touches
    from touches
    group by conversion_id
)

select
    cast(conversions.conversion_id as {{ dbt.type_string() }}) as conversion_id,
    cast(conversions.conversion_type as {{ dbt.type_string() }}) as conversion_type,
    cast(conversions.user_id as {{ dbt.type_string() }}) as user_id,
    cast(conversions.converted_at as {{ dbt.type_timestamp() }}) as converted_at,
    cast(conversions.conversion_date as date) as conversion_date,
    cast(conversions.subscription_id as {{ dbt.type_string() }}) as subscription_id,
    cast(conversions.product as {{ dbt.type_string() }}) as product,
    cast(conversions.conversion_number as {{ dbt.type_bigint() }}) as conversion_number,
    cast(conversions.is_new_customer as {{ dbt.type_boolean() }}) as is_new_customer,
    cast(conversions.value_usd as double precision) as value_usd,
    cast(conversions.value_window_end as {{ dbt.type_timestamp() }}) as value_window_end,
    cast(conversions.is_window_open as {{ dbt.type_boolean() }}) as is_window_open,
    cast(coalesce(touch_counts.touches, 0) as {{ dbt.type_bigint() }}) as touches
from conversions
left join touch_counts on conversions.conversion_id = touch_counts.conversion_id
