select
    id as user_id,
    country,
    {{ lake_timestamp('created_at') }} as signed_up_at
from {{ source('silver', 'users') }}
