-- Day sums for the summary's heaviest sums (README "Metrics", "Rollups"): the revenue of every
-- purchase before an instant (LTV) or in a window (revenue retention's earlier cohort), and the
-- contacts of a window with their response seconds (response time). A window reads the days it
-- covers whole from these rows and the rest (its partial first and last day) from the source rows,
-- so the answer is the same sum, exactly, over tens of rows instead of tens of thousands.
--
-- Kept by triggers in the writing transaction, never stale, without a hot row: every change
-- inserts delta rows (one per workspace, UTC day and currency in a statement; negative for what
-- left), no row is ever updated by a writer. A day therefore has several rows until the worker's
-- fold (fold_metric_days(), every minute) replaces them by their sum in one statement; a reader
-- sums whatever rows a day has, so folding changes no answer.
-- The segment filter reads the source rows as before: a customer's segment is the current one,
-- which these rows do not carry.

-- Revenue of purchase_categories rows (one per purchase event) by UTC day of occurred_at.
CREATE TABLE purchase_days (
  workspace_id uuid NOT NULL,
  day timestamptz NOT NULL,
  currency char(3),
  revenue numeric NOT NULL
);
CREATE INDEX purchase_days_idx ON purchase_days (workspace_id, currency, day) INCLUDE (revenue);

-- Touchpoints that reached the customer (sent, or task completed), by UTC day of that moment:
-- how many, and the sum of their response seconds (from the later of due and created, 0 when
-- earlier), as response time reads them.
CREATE TABLE contact_days (
  workspace_id uuid NOT NULL,
  day timestamptz NOT NULL,
  contacts bigint NOT NULL,
  seconds numeric NOT NULL
);
CREATE INDEX contact_days_idx ON contact_days (workspace_id, day) INCLUDE (contacts, seconds);

-- The response seconds of one contact, as the KPI computes them.
CREATE FUNCTION contact_seconds(p_contact_at timestamptz, p_due_at timestamptz, p_created_at timestamptz)
RETURNS numeric
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT greatest(0, extract(epoch FROM p_contact_at - greatest(p_due_at, p_created_at)))
$$;

-- purchase_categories: rows come and go with their events (inserted; replaced on update; deleted).
CREATE FUNCTION purchase_days_after_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    INSERT INTO purchase_days (workspace_id, day, currency, revenue)
    SELECT n.workspace_id, date_trunc('day', n.occurred_at, 'UTC'), n.currency, sum(n.amount)
    FROM new_rows n WHERE n.amount IS NOT NULL
    GROUP BY 1, 2, 3;
  ELSE
    INSERT INTO purchase_days (workspace_id, day, currency, revenue)
    SELECT o.workspace_id, date_trunc('day', o.occurred_at, 'UTC'), o.currency, -sum(o.amount)
    FROM old_rows o WHERE o.amount IS NOT NULL
    GROUP BY 1, 2, 3;
  END IF;
  RETURN NULL;
END $$;

CREATE TRIGGER purchase_categories_days_insert AFTER INSERT ON purchase_categories
  REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION purchase_days_after_change();
CREATE TRIGGER purchase_categories_days_delete AFTER DELETE ON purchase_categories
  REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION purchase_days_after_change();

-- The service never updates these columns (refresh_purchase_facts sets only adds_category and
-- first_contact_at, so this row trigger does not fire); for whoever does, the sums follow.
CREATE FUNCTION purchase_days_after_update() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO purchase_days (workspace_id, day, currency, revenue)
  SELECT OLD.workspace_id, date_trunc('day', OLD.occurred_at, 'UTC'), OLD.currency, -OLD.amount
  WHERE OLD.amount IS NOT NULL
  UNION ALL
  SELECT NEW.workspace_id, date_trunc('day', NEW.occurred_at, 'UTC'), NEW.currency, NEW.amount
  WHERE NEW.amount IS NOT NULL;
  RETURN NULL;
END $$;

CREATE TRIGGER purchase_categories_days_update AFTER UPDATE OF workspace_id, occurred_at, amount, currency
  ON purchase_categories
  FOR EACH ROW
  WHEN ((OLD.workspace_id, OLD.occurred_at, OLD.amount, OLD.currency)
        IS DISTINCT FROM (NEW.workspace_id, NEW.occurred_at, NEW.amount, NEW.currency))
  EXECUTE FUNCTION purchase_days_after_update();

-- Touchpoints: a statement's inserted or deleted contacts, and per row an update of the moment it
-- reached the customer, or of the due or created time of one that did. The existing touchpoint
-- functions gain these writes, so a statement or a sent touchpoint still runs one trigger function.
CREATE OR REPLACE FUNCTION purchase_facts_after_touchpoint_statement() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  v_workspaces uuid[];
  v_customers uuid[];
BEGIN
  IF TG_OP = 'INSERT' THEN
    SELECT array_agg(workspace_id), array_agg(customer_id) INTO v_workspaces, v_customers
    FROM (SELECT DISTINCT workspace_id, customer_id FROM new_touchpoints
          WHERE coalesce(sent_at, completed_at) IS NOT NULL) s;
    IF v_customers IS NOT NULL THEN
      INSERT INTO contact_days (workspace_id, day, contacts, seconds)
      SELECT n.workspace_id, date_trunc('day', coalesce(n.sent_at, n.completed_at), 'UTC'), count(*),
             sum(contact_seconds(coalesce(n.sent_at, n.completed_at), n.due_at, n.created_at))
      FROM new_touchpoints n WHERE coalesce(n.sent_at, n.completed_at) IS NOT NULL
      GROUP BY 1, 2;
    END IF;
  ELSE
    SELECT array_agg(workspace_id), array_agg(customer_id) INTO v_workspaces, v_customers
    FROM (SELECT DISTINCT workspace_id, customer_id FROM old_touchpoints
          WHERE coalesce(sent_at, completed_at) IS NOT NULL) s;
    IF v_customers IS NOT NULL THEN
      INSERT INTO contact_days (workspace_id, day, contacts, seconds)
      SELECT o.workspace_id, date_trunc('day', coalesce(o.sent_at, o.completed_at), 'UTC'), -count(*),
             -sum(contact_seconds(coalesce(o.sent_at, o.completed_at), o.due_at, o.created_at))
      FROM old_touchpoints o WHERE coalesce(o.sent_at, o.completed_at) IS NOT NULL
      GROUP BY 1, 2;
    END IF;
  END IF;
  IF v_customers IS NOT NULL THEN
    PERFORM refresh_purchase_facts(v_workspaces, v_customers);
  END IF;
  RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION purchase_facts_after_touchpoint_update() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  v_old timestamptz := coalesce(OLD.sent_at, OLD.completed_at);
  v_new timestamptz := coalesce(NEW.sent_at, NEW.completed_at);
BEGIN
  IF v_old IS DISTINCT FROM v_new OR OLD.customer_id IS DISTINCT FROM NEW.customer_id
     OR OLD.workspace_id IS DISTINCT FROM NEW.workspace_id THEN
    PERFORM refresh_purchase_facts(ARRAY[OLD.workspace_id, NEW.workspace_id], ARRAY[OLD.customer_id, NEW.customer_id]);
  END IF;
  INSERT INTO contact_days (workspace_id, day, contacts, seconds)
  SELECT OLD.workspace_id, date_trunc('day', v_old, 'UTC'), -1, -contact_seconds(v_old, OLD.due_at, OLD.created_at)
  WHERE v_old IS NOT NULL
  UNION ALL
  SELECT NEW.workspace_id, date_trunc('day', v_new, 'UTC'), 1, contact_seconds(v_new, NEW.due_at, NEW.created_at)
  WHERE v_new IS NOT NULL;
  RETURN NULL;
END $$;

-- One row trigger for both rollups: when the contact moment, or its customer, changed; or the due
-- or created time of a contact (its response seconds). The dispatcher's other status changes
-- cost the WHEN test only.
DROP TRIGGER touchpoints_purchase_facts_update ON touchpoints;
CREATE TRIGGER touchpoints_purchase_facts_update
  AFTER UPDATE OF sent_at, completed_at, customer_id, due_at, created_at, workspace_id ON touchpoints
  FOR EACH ROW
  WHEN (coalesce(OLD.sent_at, OLD.completed_at) IS DISTINCT FROM coalesce(NEW.sent_at, NEW.completed_at)
        OR OLD.customer_id IS DISTINCT FROM NEW.customer_id
        OR OLD.workspace_id IS DISTINCT FROM NEW.workspace_id
        OR (coalesce(NEW.sent_at, NEW.completed_at) IS NOT NULL
            AND (OLD.due_at, OLD.created_at) IS DISTINCT FROM (NEW.due_at, NEW.created_at)))
  EXECUTE FUNCTION purchase_facts_after_touchpoint_update();

-- Replaces each day's rows by one holding their sum (none when it is zero). Safe beside writers
-- (their rows not yet visible are left for the next fold) and beside another fold (a row already
-- deleted by it is skipped, so every row's value lands in exactly one sum). Returns the rows removed.
CREATE FUNCTION fold_metric_days() RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
  v_purchases bigint;
  v_contacts bigint;
BEGIN
  WITH many AS (
    SELECT workspace_id, day, currency FROM purchase_days
    GROUP BY 1, 2, 3 HAVING count(*) > 1 OR sum(revenue) = 0
  ),
  gone AS (
    DELETE FROM purchase_days d USING many m
    WHERE d.workspace_id = m.workspace_id AND d.day = m.day AND d.currency IS NOT DISTINCT FROM m.currency
    RETURNING d.workspace_id, d.day, d.currency, d.revenue
  ),
  summed AS (
    INSERT INTO purchase_days (workspace_id, day, currency, revenue)
    SELECT workspace_id, day, currency, sum(revenue) FROM gone
    GROUP BY 1, 2, 3 HAVING sum(revenue) <> 0
    RETURNING 1
  )
  SELECT count(*) INTO v_purchases FROM gone;
  WITH many AS (
    SELECT workspace_id, day FROM contact_days
    GROUP BY 1, 2 HAVING count(*) > 1 OR (sum(contacts) = 0 AND sum(seconds) = 0)
  ),
  gone AS (
    DELETE FROM contact_days d USING many m
    WHERE d.workspace_id = m.workspace_id AND d.day = m.day
    RETURNING d.workspace_id, d.day, d.contacts, d.seconds
  ),
  summed AS (
    INSERT INTO contact_days (workspace_id, day, contacts, seconds)
    SELECT workspace_id, day, sum(contacts), sum(seconds) FROM gone
    GROUP BY 1, 2 HAVING sum(contacts) <> 0 OR sum(seconds) <> 0
    RETURNING 1
  )
  SELECT count(*) INTO v_contacts FROM gone;
  RETURN v_purchases + v_contacts;
END $$;

-- Backfill: one row per day from what is stored now.
INSERT INTO purchase_days (workspace_id, day, currency, revenue)
SELECT p.workspace_id, date_trunc('day', p.occurred_at, 'UTC'), p.currency, sum(p.amount)
FROM purchase_categories p WHERE p.amount IS NOT NULL
GROUP BY 1, 2, 3;

INSERT INTO contact_days (workspace_id, day, contacts, seconds)
SELECT t.workspace_id, date_trunc('day', coalesce(t.sent_at, t.completed_at), 'UTC'), count(*),
       sum(contact_seconds(coalesce(t.sent_at, t.completed_at), t.due_at, t.created_at))
FROM touchpoints t WHERE coalesce(t.sent_at, t.completed_at) IS NOT NULL
GROUP BY 1, 2;
