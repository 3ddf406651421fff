/** A touchpoint as `GET /v1/touchpoints` and the calendar list it. */
export interface TouchpointItem {
  id: string;
  customer_id: string;
  playbook: string;
  step: string;
  channel: string;
  due_at: string;
  status: string;
  task_kind: string | null;
}
