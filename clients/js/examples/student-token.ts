import { createClient, type PracticegenClient } from '@practicegen/client';

// On your server, with the API key: a token that can only work on this student's practice.
export async function tokenForBrowser(server: PracticegenClient, studentId: string): Promise<string> {
  const { token } = await server.mintStudentToken(studentId, { ttlS: 3600 });
  return token;
}

// In the browser, with that token (never the API key): fetch and WebSocket are the page's own.
export function browserClient(studentToken: string): PracticegenClient {
  return createClient({ baseUrl: 'https://api.example.com', token: studentToken });
}
