select
    id as user_id,
    country,
    cast(created_at as {{ dbt.type_timestamp() }}) as signed_up_at
from {{ source('silver', 'users') }}
