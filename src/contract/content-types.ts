/** Values of the `content-type` header (CONTENT_TYPE_HEADER) on the records we read and write. */
export const SIGNUP_CONTENT_TYPE = 'application/vnd.emailflowvalidator.signup+avro';
export const RESULT_CONTENT_TYPE = 'application/vnd.emailflowvalidator.result+avro';
export const JSON_CONTENT_TYPE = 'application/json';
