-- rules: customer candidates from contracts (甲方). customers_unified and the rule engine come with issue #4.

CREATE TABLE customer_candidates (
    name_key     text PRIMARY KEY,        -- company name normalised (NFKC, no whitespace): one per company
    company_name text NOT NULL,           -- as first seen
    first_seen   timestamptz NOT NULL DEFAULT now(),
    last_seen    timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE candidate_contracts (
    name_key    text NOT NULL REFERENCES customer_candidates (name_key),
    contract_no text NOT NULL,
    product_id  text NOT NULL,
    version     int NOT NULL,
    PRIMARY KEY (contract_no, product_id)
);
CREATE INDEX candidate_contracts_name_key ON candidate_contracts (name_key);
