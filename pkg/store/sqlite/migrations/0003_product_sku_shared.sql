-- Whether Bling had more than one product with the link's SKU when it was last looked
-- up: such a SKU is asked of Bling again whenever one of its products is listed.
ALTER TABLE product_links ADD COLUMN sku_shared INTEGER NOT NULL DEFAULT 0;
