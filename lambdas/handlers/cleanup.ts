// Placeholder: being replaced by the real handler.
export const handler = async (): Promise<unknown> => ({ statusCode: 501, body: '{"error":{"code":"not_implemented","message":"cleanup"}}' });
