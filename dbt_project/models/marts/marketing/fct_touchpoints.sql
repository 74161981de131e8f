with

touchpoints as (select * from {{ ref('stg_lake__touchpoints') }})

select
    cast(touchpoint_id as {{ dbt.type_string() }}) as touchpoint_id,
    cast(coalesce(user_id, anonymous_id) as {{ dbt.type_string() }}) as person_key,
    cast(user_id as {{ dbt.type_string() }}) as user_id,
    cast(anonymous_id as {{ dbt.type_string() }}) as anonymous_id,
    cast(touched_at as {{ dbt.type_timestamp() }}) as touched_at,
    cast(touch_date as date) as touch_date,
    cast(channel as {{ dbt.type_string() }}) as channel,
    cast(campaign as {{ dbt.type_string() }}) as campaign,
    cast(product as {{ dbt.type_string() }}) as product
from touchpoints
