{# Each invoice's net revenue split by product: the weights that carry what is booked per invoice
   (tax, payments, payment fees) to the products the invoice sells. #}
with

invoice_lines as (select * from {{ ref('stg_lake__invoice_lines') }}),

per_product as (
    select
        invoice_id,
        product,
        sum(net_amount) as net_amount
    from invoice_lines
    group by invoice_id, product
),

per_invoice as (
    select
        invoice_id,
        sum(net_amount) as net_amount,
        count(*) as products
    from per_product
    group by invoice_id
)

select
    per_product.invoice_id,
    per_product.product,
    -- an invoice of one product gives it everything, even when its lines net to zero
    case
        when per_invoice.products = 1 then 1.0
        else per_product.net_amount / nullif(per_invoice.net_amount, 0)
    end as revenue_share
from per_product
inner join per_invoice on per_product.invoice_id = per_invoice.invoice_id
