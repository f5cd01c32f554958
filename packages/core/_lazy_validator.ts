// Internal: a JSON Schema validator provider for SDK clients and servers that builds its Ajv instance on first use.
//
// Every SDK `Client` and `Server` builds its own Ajv instance in its constructor (~0.5 ms and ~56 KiB each), yet
// uses it only to validate tool output schemas (`listTools`) or elicitation results. The proxy opens two clients
// per member and most never need it: this provider keeps one instance per client, as the SDK does, but only once
// a schema is actually compiled.
import {
  AjvJsonSchemaValidator,
  type JsonSchemaType,
  type JsonSchemaValidator,
  type jsonSchemaValidator,
} from "./_sdk.ts";

/** The SDK's default (Ajv) validator provider, created on the first `getValidator` call. */
export class LazyJsonSchemaValidator implements jsonSchemaValidator {
  #inner: AjvJsonSchemaValidator | undefined;

  /** Compiles `schema` with this provider's own Ajv instance, creating it the first time. */
  getValidator<T>(schema: JsonSchemaType): JsonSchemaValidator<T> {
    this.#inner ??= new AjvJsonSchemaValidator();
    return this.#inner.getValidator<T>(schema);
  }
}
