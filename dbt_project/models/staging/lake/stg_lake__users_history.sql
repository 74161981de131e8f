select
    id as user_id,
    country,
    signup_product,
    marketing_opt_in,
    {{ lake_timestamp('created_at') }} as created_at,
    {{ lake_timestamp('valid_from') }} as valid_from,
    {{ lake_timestamp('valid_to') }} as valid_to,
    is_current,
    is_deleted
from {{ source('silver', 'users_history') }}
