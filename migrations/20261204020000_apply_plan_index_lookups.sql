-- apply_plan() joined its jsonb lists to customers, enrollments and touchpoints with UPDATE …
-- FROM / IN (SELECT …). The planner guesses a jsonb recordset at 100 rows, so for the few rows
-- of a group commit it chose hash joins over a scan of the table: announcing six customers'
-- stages read every customer of the workspace (3.8 ms of the 5.6 ms of CPU that apply_plan()
-- took for a six-event group on 12,000 customers, and growing with the table). Each statement
-- now also names its rows with `= ANY (ids)`, an index condition whatever the estimates, and
-- joins the list only for the per-row values. Writes and their order are unchanged.
-- p_plan: { exits: [{ id, reason }], moves: [{ id, playbook_id, playbook_version, trigger_at,
--   trigger_key, last_due_at }], enrollments: [enrollment rows], touchpoints: [touchpoint rows],
--   stages: [{ customer_id, stage }], outbox: [{ id, type, data }] } (snake_case columns).
CREATE OR REPLACE FUNCTION apply_plan(p_workspace uuid, p_now timestamptz, p_plan jsonb)
RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
  v_ids uuid[];
BEGIN
  IF jsonb_array_length(p_plan->'exits') > 0 THEN
    v_ids := ARRAY(SELECT (x->>'id')::uuid FROM jsonb_array_elements(p_plan->'exits') x);
    UPDATE enrollments e SET status = 'exited', exit_reason = x.reason, ended_at = p_now, updated_at = p_now
    FROM jsonb_to_recordset(p_plan->'exits') AS x(id uuid, reason text)
    WHERE e.workspace_id = p_workspace AND e.id = ANY (v_ids) AND e.id = x.id AND e.status = 'active';
    UPDATE touchpoints t SET status = 'cancelled', status_reason = 'exited:' || x.reason, updated_at = p_now
    FROM jsonb_to_recordset(p_plan->'exits') AS x(id uuid, reason text)
    -- CANCELLABLE_STATUSES of enrollments.repository.ts.
    WHERE t.workspace_id = p_workspace AND t.enrollment_id = ANY (v_ids) AND t.enrollment_id = x.id
      AND t.status IN ('scheduled', 'queued', 'pending');
  END IF;

  IF jsonb_array_length(p_plan->'moves') > 0 THEN
    v_ids := ARRAY(SELECT (m->>'id')::uuid FROM jsonb_array_elements(p_plan->'moves') m);
    -- A moved trigger's old plan: still only scheduled, it never left Postgres and is deleted;
    -- already handed to the queue, it is cancelled.
    DELETE FROM touchpoints t
    WHERE t.workspace_id = p_workspace AND t.enrollment_id = ANY (v_ids) AND t.status = 'scheduled';
    UPDATE touchpoints t SET status = 'cancelled', status_reason = 'rescheduled', updated_at = p_now
    WHERE t.workspace_id = p_workspace AND t.enrollment_id = ANY (v_ids) AND t.status = 'queued';
    UPDATE enrollments e SET playbook_id = m.playbook_id, playbook_version = m.playbook_version,
      trigger_at = m.trigger_at, trigger_key = m.trigger_key, last_due_at = m.last_due_at, updated_at = p_now
    FROM jsonb_to_recordset(p_plan->'moves') AS m(id uuid, playbook_id uuid, playbook_version int,
      trigger_at timestamptz, trigger_key text, last_due_at timestamptz)
    WHERE e.workspace_id = p_workspace AND e.id = ANY (v_ids) AND e.id = m.id;
  END IF;

  -- Enrollments before the touchpoints that belong to them.
  IF jsonb_array_length(p_plan->'enrollments') > 0 THEN
    INSERT INTO enrollments (workspace_id, id, customer_id, playbook_id, playbook_key, playbook_version,
      trigger_kind, trigger_event_id, trigger_at, trigger_key, status, last_due_at, exit_reason, ended_at,
      created_at, updated_at)
    SELECT p_workspace, r.id, r.customer_id, r.playbook_id, r.playbook_key, r.playbook_version,
      r.trigger_kind, r.trigger_event_id, r.trigger_at, r.trigger_key, r.status, r.last_due_at,
      r.exit_reason, r.ended_at, p_now, p_now
    FROM jsonb_to_recordset(p_plan->'enrollments') AS r(id uuid, customer_id uuid, playbook_id uuid,
      playbook_key text, playbook_version int, trigger_kind text, trigger_event_id uuid,
      trigger_at timestamptz, trigger_key text, status text, last_due_at timestamptz, exit_reason text,
      ended_at timestamptz);
  END IF;

  IF jsonb_array_length(p_plan->'touchpoints') > 0 THEN
    INSERT INTO touchpoints (workspace_id, id, customer_id, enrollment_id, playbook_key, playbook_version,
      step_key, channel, template_key, task_kind, endpoint_id, due_at, status, status_reason,
      created_at, updated_at)
    SELECT p_workspace, r.id, r.customer_id, r.enrollment_id, r.playbook_key, r.playbook_version,
      r.step_key, r.channel, r.template_key, r.task_kind, r.endpoint_id, r.due_at, r.status,
      r.status_reason, p_now, p_now
    FROM jsonb_to_recordset(p_plan->'touchpoints') AS r(id uuid, customer_id uuid, enrollment_id uuid,
      playbook_key text, playbook_version int, step_key text, channel text, template_key text,
      task_kind text, endpoint_id uuid, due_at timestamptz, status text, status_reason text);
  END IF;

  IF jsonb_array_length(p_plan->'stages') > 0 THEN
    UPDATE customers c SET announced_stage = s.stage
    FROM jsonb_to_recordset(p_plan->'stages') AS s(customer_id uuid, stage text)
    WHERE c.workspace_id = p_workspace
      AND c.id = ANY (ARRAY(SELECT (x->>'customer_id')::uuid FROM jsonb_array_elements(p_plan->'stages') x))
      AND c.id = s.customer_id;
  END IF;

  IF jsonb_array_length(p_plan->'outbox') > 0 THEN
    INSERT INTO outbox (workspace_id, id, type, data, created_at)
    SELECT p_workspace, o.id, o.type, o.data, p_now
    FROM jsonb_to_recordset(p_plan->'outbox') AS o(id uuid, type text, data jsonb)
    ON CONFLICT (workspace_id, id) DO NOTHING;
  END IF;
END
$$;
