select
    id as user_id,
    country,
    signup_product,
    marketing_opt_in,
    cast(created_at as {{ dbt.type_timestamp() }}) as created_at,
    cast(valid_from as {{ dbt.type_timestamp() }}) as valid_from,
    cast(valid_to as {{ dbt.type_timestamp() }}) as valid_to,
    is_current,
    is_deleted
from {{ source('silver', 'users_history') }}
