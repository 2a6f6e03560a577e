import { viewerFile } from '../core/viewer-asset';
import { httpHandler } from '../shared/http-handler';

/**
 * GET /viewer/{file}: the <activity-log> web component, a public static module (no authorizer:
 * a `<script>` tag sends no token, and the file holds no data).
 */
export const handler = httpHandler(async (event) => ({ statusCode: 200, ...viewerFile(event.pathParameters?.file) }));
