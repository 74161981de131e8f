select
    id as course_id,
    title as course_title,
    category as course_category,
    completion_rule,
    cast(published_at as {{ dbt.type_timestamp() }}) as published_at
from {{ source('silver', 'courses') }}
