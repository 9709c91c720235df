import { createClient } from '@practicegen/client';
import WebSocket from 'ws'; // Node 20 has no global WebSocket; browsers and Node 22+ do

export const client = createClient({
  baseUrl: 'http://127.0.0.1:8000',
  token: process.env['PRACTICEGEN_API_KEY'] ?? '',
  WebSocket,
});
