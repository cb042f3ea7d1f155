// The credentials control of the add-layer form: a type select and the fields of that type.
// Secrets live only in the password fields until `take()` hands them over, then they are
// cleared; switching the type keeps non-secret values and drops secrets.

import { h } from "../dom";
import { CREDENTIAL_TYPES, buildCredentials, missingCredentialFields, type CredentialType } from "../protocol";

const CREDENTIAL_LABELS: Record<CredentialType, string> = {
  none: "None (public)",
  http_basic: "HTTP basic auth",
  http_bearer: "HTTP bearer token",
  s3: "S3 access keys",
  gcs: "GCS service account",
};

interface FieldDef {
  key: string;
  label: string;
  secret: boolean;
  textarea?: boolean;
  placeholder?: string;
}

const CREDENTIAL_FIELDS: Record<CredentialType, FieldDef[]> = {
  none: [],
  http_basic: [
    { key: "username", label: "Username", secret: false },
    { key: "password", label: "Password", secret: true },
  ],
  http_bearer: [{ key: "token", label: "Token", secret: true }],
  s3: [
    { key: "access_key_id", label: "Access key ID", secret: false },
    { key: "secret_access_key", label: "Secret key", secret: true },
    { key: "endpoint_url", label: "Endpoint URL", secret: false, placeholder: "optional, e.g. https://s3.example.org" },
    { key: "region", label: "Region", secret: false, placeholder: "optional" },
  ],
  gcs: [
    {
      key: "service_account", label: "Service account JSON", secret: true, textarea: true,
      placeholder: "paste the key file's JSON; empty = anonymous",
    },
  ],
};

function testidOf(key: string): string {
  return `wk-cred-${key.replace(/_/g, "-")}`;
}

/** What `take()` returns: the credentials as the CLI's JSON, or the labels still missing. */
export type TakenCredentials = { ok: true; credentials: Record<string, unknown> | null } | { ok: false; missing: string[] };

export class CredentialFields {
  /** The type select (placed in the form's "Credentials" row). */
  readonly select: HTMLSelectElement;
  /** The fields of the selected type. */
  readonly box: HTMLDivElement;
  private readonly fields = new Map<string, HTMLInputElement | HTMLTextAreaElement>();

  constructor() {
    this.select = h("select", { testid: "wk-cred-type", attrs: { "aria-label": "Credentials" } },
      ...CREDENTIAL_TYPES.map((t) => h("option", { text: CREDENTIAL_LABELS[t], attrs: { value: t } })));
    this.select.addEventListener("change", () => this.render());
    this.box = h("div", { testid: "wk-cred-fields" });
    this.render();
  }

  private get type(): CredentialType {
    return this.select.value as CredentialType;
  }

  private render(): void {
    const keep = new Map<string, string>();
    for (const [k, el] of this.fields) if (!(el.dataset["secret"] === "1")) keep.set(k, el.value);
    this.fields.clear();
    this.box.replaceChildren();
    for (const f of CREDENTIAL_FIELDS[this.type]) {
      const attrs: Record<string, string> = {
        autocomplete: f.secret ? "new-password" : "off", spellcheck: "false", "aria-label": f.label,
        "data-lpignore": "true", "data-1p-ignore": "true",
      };
      if (f.placeholder) attrs["placeholder"] = f.placeholder;
      let input: HTMLInputElement | HTMLTextAreaElement;
      if (f.textarea) {
        input = h("textarea", { testid: testidOf(f.key), className: "wk-grow", attrs: { ...attrs, rows: "3" } });
      } else {
        input = h("input", { testid: testidOf(f.key), className: "wk-grow", attrs: { ...attrs, type: f.secret ? "password" : "text" } });
      }
      input.dataset["secret"] = f.secret ? "1" : "0";
      input.value = keep.get(f.key) ?? "";
      this.fields.set(f.key, input);
      this.box.append(h("div", { className: "wk-row" }, h("label", { text: f.label }), input));
    }
  }

  /** The credentials to send, clearing the secret fields (the form forgets secrets once they
   * are sent); nothing is cleared while required fields are missing. */
  take(): TakenCredentials {
    const type = this.type;
    const values: Record<string, string> = {};
    for (const [k, el] of this.fields) values[k] = el.value;
    const missing = missingCredentialFields(type, values);
    if (missing.length > 0) {
      return { ok: false, missing: missing.map((k) => CREDENTIAL_FIELDS[type].find((f) => f.key === k)?.label ?? k) };
    }
    const credentials = buildCredentials(type, values);
    for (const k of Object.keys(values)) values[k] = "";
    this.clearSecrets();
    return { ok: true, credentials };
  }

  clearSecrets(): void {
    for (const el of this.fields.values()) if (el.dataset["secret"] === "1") el.value = "";
  }
}
