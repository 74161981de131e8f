select
    event_id,
    user_id,
    document_id,
    "format" as export_format,
    {{ lake_timestamp('occurred_at') }} as occurred_at,
    event_date
from {{ source('silver', 'document_exports') }}
