{# What moves receivables besides billed revenue, carried to products: an invoice's tax (billed with
   it), succeeded payments (cash collected) and their fees, all split by the products' shares of the
   invoice's net revenue (an invoice without lines leaves product null, which the product tests
   report); a refund returns cash and un-bills its tax on its line's product. In the
   invoice's currency and in USD at each transaction's own day. #}
with

invoices as (select * from {{ ref('stg_lake__invoices') }}),
payments as (select * from {{ ref('stg_lake__payments') }}),
refunds as (select * from {{ ref('stg_lake__refunds') }}),
invoice_lines as (select * from {{ ref('stg_lake__invoice_lines') }}),
invoice_shares as (select * from {{ ref('int_revenue_invoice_shares') }}),

invoice_tax as (
    select
        'invoice_tax' as movement_type,
        invoices.invoice_id as source_id,
        invoice_shares.product,
        invoices.currency,
        invoices.created_at as occurred_at,
        invoices.tax * invoice_shares.revenue_share as tax_billed,
        invoices.tax_usd * invoice_shares.revenue_share as tax_billed_usd,
        cast(0 as double precision) as collected,
        cast(0 as double precision) as collected_usd,
        cast(0 as double precision) as payment_fee,
        cast(0 as double precision) as payment_fee_usd
    from invoices
    left join invoice_shares on invoices.invoice_id = invoice_shares.invoice_id
),

payments_collected as (
    select
        'payment' as movement_type,
        payments.payment_id as source_id,
        invoice_shares.product,
        payments.currency,
        payments.created_at as occurred_at,
        cast(0 as double precision) as tax_billed,
        cast(0 as double precision) as tax_billed_usd,
        payments.amount * invoice_shares.revenue_share as collected,
        payments.amount_usd * invoice_shares.revenue_share as collected_usd,
        payments.fee * invoice_shares.revenue_share as payment_fee,
        payments.fee_usd * invoice_shares.revenue_share as payment_fee_usd
    from payments
    left join invoice_shares on payments.invoice_id = invoice_shares.invoice_id
    where payments.status = 'succeeded'
),

refunds_returned as (
    select
        'refund' as movement_type,
        refunds.refund_id as source_id,
        -- a refund without its line leaves product null, which the product tests report
        invoice_lines.product,
        refunds.currency,
        refunds.created_at as occurred_at,
        -refunds.tax_amount as tax_billed,
        -refunds.tax_amount_usd as tax_billed_usd,
        -refunds.amount as collected,
        -refunds.amount_usd as collected_usd,
        cast(0 as double precision) as payment_fee,
        cast(0 as double precision) as payment_fee_usd
    from refunds
    left join invoice_lines on refunds.invoice_line_id = invoice_lines.invoice_line_id
)

select * from invoice_tax
union all
select * from payments_collected
union all
select * from refunds_returned
