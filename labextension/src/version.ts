/** The frontend's versions; the handshake compares them with `GET /ratatouille/version`. */

/** The npm package version; kept equal to the Python package's (a test checks it). */
export const FRONTEND_VERSION = '0.1.0';

/** The REST API version this frontend speaks. */
export const API_VERSION = 2;
