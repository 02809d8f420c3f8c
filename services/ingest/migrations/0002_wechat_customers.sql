-- WeChat-captured customers as last received, so a repeat capture with the same content emits nothing.
CREATE TABLE wechat_customers (
    wechat_id    text PRIMARY KEY,
    version      int NOT NULL,
    content_hash text NOT NULL,
    fields       jsonb NOT NULL,
    client_id    text NOT NULL,
    captured_at  timestamptz NOT NULL,
    received_at  timestamptz NOT NULL DEFAULT now()
);
