select
    id as course_id,
    title as course_title,
    category as course_category,
    completion_rule,
    {{ lake_timestamp('published_at') }} as published_at
from {{ source('silver', 'courses') }}
