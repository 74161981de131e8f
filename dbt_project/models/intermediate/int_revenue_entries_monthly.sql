{# Each revenue entry's billed and recognized amounts per calendar month that has ended.
   Billed: in the month of the entry's day. Recognized: evenly over [recognized_from,
   recognized_until) measured in exact time, so a month gets amount × (overlap of the period with the
   month) / (length of the period), fractional days included; an entry without a period is recognized
   at once in the month of its day. #}
with

entries as (select * from {{ ref('int_revenue_entries_unioned') }}),
month_ends as (select * from {{ ref('int_month_ends_spined') }}),

months as (
    select
        month_start,
        cast(month_start as {{ dbt.type_timestamp() }}) as starts_at,
        cast({{ dbt.dateadd('month', 1, 'month_start') }} as {{ dbt.type_timestamp() }}) as ends_at
    from month_ends
),

on_their_day as (
    select
        entries.entry_type,
        entries.source_id,
        entries.product,
        entries.currency,
        months.month_start,
        entries.billed_amount,
        entries.billed_amount_usd,
        case when entries.recognized_from is null then entries.recognized_amount else 0 end
            as recognized_amount,
        case when entries.recognized_from is null then entries.recognized_amount_usd else 0 end
            as recognized_amount_usd
    from entries
    inner join months
        on entries.booked_at >= months.starts_at
        and entries.booked_at < months.ends_at
),

period_overlaps as (
    select
        entries.entry_type,
        entries.source_id,
        entries.product,
        entries.currency,
        months.month_start,
        entries.recognized_amount,
        entries.recognized_amount_usd,
        entries.recognized_from,
        entries.recognized_until,
        case when entries.recognized_from > months.starts_at then entries.recognized_from else months.starts_at end
            as overlap_from,
        case when entries.recognized_until < months.ends_at then entries.recognized_until else months.ends_at end
            as overlap_until
    from entries
    inner join months
        on entries.recognized_from < months.ends_at
        and entries.recognized_until > months.starts_at
),

over_their_period as (
    select
        entry_type,
        source_id,
        product,
        currency,
        month_start,
        cast(0 as double precision) as billed_amount,
        cast(0 as double precision) as billed_amount_usd,
        recognized_amount * share_of_period as recognized_amount,
        recognized_amount_usd * share_of_period as recognized_amount_usd
    from (
        select
            *,
            cast({{ dbt.datediff('overlap_from', 'overlap_until', 'microsecond') }} as double precision)
            / cast({{ dbt.datediff('recognized_from', 'recognized_until', 'microsecond') }} as double precision)
                as share_of_period
        from period_overlaps
    ) as shares
),

unioned as (
    select * from on_their_day
    union all
    select * from over_their_period
)

select
    entry_type,
    source_id,
    product,
    currency,
    month_start as month,
    sum(billed_amount) as billed_amount,
    sum(billed_amount_usd) as billed_amount_usd,
    sum(recognized_amount) as recognized_amount,
    sum(recognized_amount_usd) as recognized_amount_usd
from unioned
group by entry_type, source_id, product, currency, month_start
