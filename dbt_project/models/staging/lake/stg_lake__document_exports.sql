select
    event_id,
    user_id,
    document_id,
    "format" as export_format,
    cast(occurred_at as {{ dbt.type_timestamp() }}) as occurred_at,
    event_date
from {{ source('silver', 'document_exports') }}
